terraform {
  # No provider and no resource: the module only shapes the declared hosts into the nodes
  # contract, so it runs on any Terraform/OpenTofu from 1.0.
  required_version = ">= 1.0"
}
