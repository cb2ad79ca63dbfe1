from archiver.cli import cli

cli()
