terraform {
  # Nothing newer than Terraform 1.0 is needed; azurerm 3.80 for the scale set arguments used
  # here (encryption_at_host_enabled, PremiumV2 data disks, disk_encryption_set_id on disks).
  required_version = ">= 1.0"

  required_providers {
    azurerm = {
      source  = "hashicorp/azurerm"
      version = ">= 3.80"
    }
  }
}
