"""Business services. Each class is bound to a SessionController and enforces permissions."""
