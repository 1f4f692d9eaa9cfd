"""A tiny shop library the corpus' failing pytest runs exercise."""
