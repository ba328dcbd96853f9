terraform {
  # 1.2 for lifecycle preconditions; google 5.x for `instance_termination_action` and
  # hyperdisk provisioned IOPS/throughput on google_compute_disk.
  required_version = ">= 1.2"

  required_providers {
    google = {
      source  = "hashicorp/google"
      version = ">= 5.0"
    }
  }
}
