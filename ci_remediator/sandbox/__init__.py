"""Protocol-level stand-ins for GitHub, Slack and OpenAI, used by tests, benchmarks and the demo."""
