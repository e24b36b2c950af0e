"""Value types and pure parsers shared by every layer (docs/ARCHITECTURE.md: Layers).

Nothing here touches the database or the terminal: filters, periods, import options,
the plain rows handed to screens, the parsers of typed values, and the ``Authoriser``
protocol services are given instead of the session controller. Screens, commands,
the session and the services all import from here; this package imports only the
leaf modules (errors, money, permissions, textsafety).
"""
