"""The loop that learns: a closed-loop simulation of powerhall on a synthetic population.

Customers answer from the generator's hidden truth (`simulation.truth`); suggestions go
out through the real engine, contact policy and campaign outbox; answers come back as
feedback, are exported to the lake, rebuild the features and retrain the models through
the promotion gate, round after round of simulated time (`simulation.loop`). Five
policies meet the same customers (`simulation.policies`), `simulation.report` turns
their pushes into the rounds' table, plot and MLflow run, and `simulation.ceiling` sets
their first pushes against the best any policy could expect.

A package of its own, beside `features`, `training` and `serving`: it drives all three as
the operators would, and none of them may depend on that orchestration.
"""
