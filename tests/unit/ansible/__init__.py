"""Tests of the Ansible collection gpuforge.gpu."""
