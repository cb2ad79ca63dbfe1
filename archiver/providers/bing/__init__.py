"""Bing chat ("Sydney"): saved chats, their histories and the ChatHub websocket."""
