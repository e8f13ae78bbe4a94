"""`newsbot demo` and `newsbot chat`: the real bot, run against the fakes, in a terminal."""
