"""The PlantGate web app: a thin FastAPI shell over the same library the CLI uses."""
