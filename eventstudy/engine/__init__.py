"""Step 3 of the data's path: the events x days panel, normal-return models, per-event measures
(AR/CAR/BHAR/volume), cross-event tests and the Brown-Warner simulation, as numpy over arrays."""
