"""Teams adapter: Bot Framework activities in, neutral ChatEvents to handlers, Adaptive Cards out."""
