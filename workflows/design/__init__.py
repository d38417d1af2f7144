"""The process designer's drafts and the library's scenario checks."""
