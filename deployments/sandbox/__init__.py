"""The local AWS sandbox: a moto server on loopback, with ECS rollouts that progress.

Used by ``make run`` (the demo) and by end-to-end tests. Product code never asks whether it
talks to the sandbox; the sandbox behaves like AWS as far as the deployment engine can see.
"""
