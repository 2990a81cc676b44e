"""Skipping outlier updates (VDVAE, Child 2021): the part of the deep-hierarchy training recipe that acts on the
gradient, not on the objective.

One bad batch of a deep hierarchy can blow a layer's KL up by orders of magnitude, and a clipped step in that
direction still moves the weights there: the update is skipped instead, when its gradient's global norm is not
finite, above an absolute threshold, or above a factor times the running mean of the gradient norms.
"""

import tensorflow as tf

#: ``skip_gradient_factor``: the running mean of the gradient norms decays by this per update, and holds after this
#: many applied updates.
RUNNING_NORM_DECAY = 0.99
RUNNING_NORM_WARMUP = 50


def apply_unless_outlier(model, grads):
    """Applies ``grads`` with ``model.optimizer`` unless their global norm is not finite, at least
    ``config.skip_gradient_norm`` (when > 0), or at least ``config.skip_gradient_factor`` times the running mean
    of the gradient norms (when > 0, after ``RUNNING_NORM_WARMUP`` applied updates). Updates ``model``'s
    ``grad_norm`` and ``skipped`` trackers.

    Every finite step moves the running mean (an exponential average, ``RUNNING_NORM_DECAY``), a skipped one by
    at most the threshold: gradient norms grow as training goes on, and a mean of the applied steps alone would
    fall behind and skip every later step.
    """
    config = model.config
    norm = tf.linalg.global_norm(grads)
    finite = tf.math.is_finite(norm)
    keep = finite
    if config.skip_gradient_norm > 0:
        keep = tf.logical_and(keep, norm < config.skip_gradient_norm)
    if config.skip_gradient_factor > 0:
        warm = model.applied_updates >= RUNNING_NORM_WARMUP
        keep = tf.logical_and(keep, tf.logical_or(tf.logical_not(warm),
                                                  norm < config.skip_gradient_factor * model.running_grad_norm))

    def apply():
        model.optimizer.apply(grads, model.trainable_variables)
        return tf.constant(True)

    tf.cond(keep, apply, lambda: tf.constant(False))
    if config.skip_gradient_factor > 0:
        first = tf.equal(model.applied_updates, 0.0)
        capped = tf.where(first, norm, tf.minimum(norm, config.skip_gradient_factor * model.running_grad_norm))
        updated = tf.where(first, capped,
                           RUNNING_NORM_DECAY * model.running_grad_norm + (1 - RUNNING_NORM_DECAY) * capped)
        model.running_grad_norm.assign(tf.where(finite, updated, model.running_grad_norm))
        model.applied_updates.assign_add(tf.cast(keep, tf.float32))
    grad_norm, skipped = model.skip_trackers
    grad_norm.update_state(tf.where(finite, norm, -1.0))
    skipped.update_state(1.0 - tf.cast(keep, tf.float32))
