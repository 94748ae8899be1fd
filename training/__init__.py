"""Training mode: trainees' calls (time, keystrokes, the mistakes the checks caught), scripted calls
a trainer writes and assigns, and the comparison of a trainee's order with the expected one.

A trainee is a user with ``User.trainee`` set (staff pages); the orders they take are training
orders (``Order.training``), kept off every other screen by the orders' read queries and off every
subscriber by the event bus (docs/training.md).
"""
