"""The once-said estimate of a long job's remaining time."""

import time

from vae_tf.long_jobs import RemainingTime, format_duration


def test_durations_read_in_the_unit_a_person_uses():
    assert format_duration(0.14) == "0.1 s" and format_duration(9.4) == "9.4 s"
    assert format_duration(40) == "40 s" and format_duration(12 * 60) == "12 min"
    assert format_duration(1.5 * 3600) == "1.5 h"


def test_the_estimate_leaves_out_the_warm_up_and_is_said_once():
    said = []
    estimate = RemainingTime(100, "job", warmup=1, min_seconds=0.0, say=said.append)
    estimate.done(10)  # the compiling piece: not measured
    time.sleep(0.05)
    remaining = estimate.done(10)  # 0.05 s for 10 units, 80 units left: about 0.4 s
    assert 0.3 < remaining < 2.0
    estimate.done(10)
    assert len(said) == 1 and said[0].startswith("job: about ")
    assert said[0].endswith(" s more (from the speed of the first 20 of 100 images)")


def test_short_jobs_say_nothing():
    said = []
    estimate = RemainingTime(3, "job", min_seconds=20.0, say=said.append)
    for _ in range(3):
        estimate.done(1)
    assert said == []
