"""The model client: OpenAI Structured Outputs behind the analysis ModelAnalyzer shape."""
