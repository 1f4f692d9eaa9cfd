"""The remediation catalog: what each ActionKind may do, verify and undo."""
