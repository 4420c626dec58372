"""Build functions of the seam fixture: a package of its own, so importing it at deploy meets no other `workloads`."""
