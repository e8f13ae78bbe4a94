"""Data shipped with news.nlp: the Liaoning leaders gazetteer and the surname list."""
