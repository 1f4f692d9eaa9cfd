"""Slack: Block Kit messages and the interactive endpoint (Bolt). Knows nothing of the
pipeline: the web process hands it the function that decides."""
