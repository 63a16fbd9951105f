"""Decisions PlantGate computes or records: SSVC priorities, advisory matches, exposure, exceptions.

Each module keeps one kind of decision explainable: the inputs it used, where they came
from, and what a person signed.
"""
