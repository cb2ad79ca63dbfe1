"""Job files: TOML declaring what to run (a job kind), against which database, on which
schedule; ``archiver run`` runs them, ``archiver schedule`` prints their crontab lines."""
