"""Files to a Whoosh index: read, parse into bulletins and articles, analyse, write.

Only this package (and `search`) touches Whoosh; only this package imports jieba.
"""
