"""Step 4, what a study returns: ``EventStudyResult`` (its DataFrames) and its renderings: summary
text, JSON, exports (CSV, Excel, LaTeX), plots and the cross-sectional designs run on it."""
