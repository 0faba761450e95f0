"""Step 5: a study's report folder: markdown, self-contained HTML, figures, CSV and JSON, written
atomically into a folder the tool owns."""
