"""Handlers for the shipped example manifests (manifests/*.yaml).

Each manifest names its handlers by import path (`workloads.pipeline:discover`); mdeploy adds this
package's source to the images of the functions that use it.
"""
