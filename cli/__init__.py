"""`python -m server` commands beyond serving: each module runs one family of them."""
