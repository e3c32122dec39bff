# Same name as a third-party package: the app root comes last on sys.path, so a plain
# "import dateutil" finds the installed package and "import __app__.dateutil" finds this one.
__version__ = "from.customer.code"
