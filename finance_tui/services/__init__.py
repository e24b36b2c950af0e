"""Business services. Each class is given an ``Authoriser`` (the session) and enforces permissions."""
