"""jetstream-py's code generator: JetStream JSON schemas -> typed Python (see README, "Codegen")."""
