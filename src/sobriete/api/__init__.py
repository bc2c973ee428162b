"""The HTTP face of sobriete (`sobriete serve`): configuration, the FastAPI application and
its error format. It reads and writes only through ``sobriete.services``."""
