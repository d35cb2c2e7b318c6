#!/usr/bin/env bash
#
# deploy.sh - creates or updates the EchoStream stack on AWS and prints the
# dashboard's address. Safe to run again: an unchanged stack is left as it
# is, and a new release is rolled onto the running instance.
#
#   deploy/aws/deploy.sh --package-url URL [options] [NAME=VALUE ...]
#
#   --stack NAME        the stack (default echostream, or $ECHOSTREAM_STACK)
#   --region REGION     AWS region (default: the AWS CLI's)
#   --package-url URL   a release's download address (the .deb packages,
#                       instance-setup.sh, SHA256SUMS); required to create
#                       the stack, and on an existing stack it upgrades the
#                       instance to that release
#   NAME=VALUE          template parameters (DomainName=..., SenderEmail=...,
#                       OperatorEmail=...; deploy/aws/template.yaml lists
#                       them all); on an update, the ones not given keep
#                       their values
#   --restart-instance  on an existing stack, change a parameter the
#                       instance reads only at its first boot anyway: the
#                       instance restarts, its files keep the old value
#                       (docs/deploy.md, "Changing and upgrading")
#   -h, --help          this text
#
# How: `aws cloudformation deploy` (the AWS CLI is the only tool needed)
# creates the stack or applies a change set to it. The instance reads
# PackageUrl once, at its first boot; an upgrade therefore never edits the
# instance's user data (that would restart or replace the instance), but
# runs the release's instance-setup.sh on it through SSM Run Command, which
# replaces the packages and restarts the units; Redis's data stays on the
# instance's volume (docs/deploy.md).
#
# The parameters the user data writes into the instance's configuration
# (template.yaml's EchoStream::FirstBootParameters: DomainName,
# BedrockModelId, InstanceType, ...) are read at the first boot only. On
# an existing stack, a new value for one would make CloudFormation stop
# and start the instance while its files keep the old value, so deploy.sh
# refuses it and says how to change the setting on the instance instead;
# --restart-instance goes ahead (for an InstanceType, which the restart
# does apply).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
readonly HERE
readonly TEMPLATE="$HERE/template.yaml"

PROG=deploy
USAGE_LINES=3,24
# shellcheck source=deploy/aws/stack.sh
. "$(dirname "$0")/stack.sh"

package_url=''
params=()
restart_instance=0

while [ $# -gt 0 ]; do
    stack_option "$@"
    if [ "$taken" -gt 0 ]; then
        shift "$taken"
        continue
    fi
    case "$1" in
    --package-url)
        [ $# -ge 2 ] || die "--package-url needs a URL"
        package_url=${2%/}
        shift 2
        ;;
    --restart-instance)
        restart_instance=1
        shift
        ;;
    [A-Za-z]*=*)
        case "$1" in PackageUrl=*) die "give the release with --package-url" ;; esac
        params+=("$1")
        shift
        ;;
    *)
        usage >&2
        die "unexpected argument '$1'"
        ;;
    esac
done

if [ -n "$package_url" ] && ! [[ $package_url =~ ^https://[^[:space:]\'\"]+$ ]]; then
    die "--package-url must be an https:// address without spaces or quotes"
fi
stack_need_aws


# Stops when an update would change a parameter only the instance's first
# boot reads (see the header), unless --restart-instance.
check_first_boot_params() {
    local first p name changed=()
    first=" $(sed -n 's/^ *EchoStream::FirstBootParameters: *\[\(.*\)\] *$/\1/p' \
        "$TEMPLATE" | tr ',' ' ' | tr -s ' ') "
    [ "$first" != "  " ] || die "$TEMPLATE lists no EchoStream::FirstBootParameters"
    for p in "${params[@]}"; do
        name=${p%%=*}
        case "$first" in *" $name "*) ;; *) continue ;; esac
        [ "$(stack_value Parameters "$name")" = "${p#*=}" ] || changed+=("$name")
    done
    [ "${#changed[@]}" -gt 0 ] || return 0
    if [ "$restart_instance" -eq 1 ]; then
        say "changing ${changed[*]}: CloudFormation stops and starts the instance, which keeps its configuration files (docs/deploy.md)"
        return 0
    fi
    die "${changed[*]} would change on stack $stack, but the instance reads it only at its first boot: CloudFormation would stop and start it and its configuration would keep the old value. Change the setting on the instance instead (docs/deploy.md, \"Changing and upgrading\"), or give --restart-instance to go ahead."
}

exists=0
if cfn describe-stacks --stack-name "$stack" >/dev/null 2>&1; then
    exists=1
fi

if [ "$exists" -eq 0 ]; then
    [ -n "$package_url" ] || die "creating stack $stack needs --package-url"
    params+=("PackageUrl=$package_url")
    say "creating stack $stack (10-15 minutes; the certificate waits for DNS)"
else
    check_first_boot_params
    say "updating stack $stack"
fi

deploy_args=(deploy --stack-name "$stack" --template-file "$TEMPLATE"
    --capabilities CAPABILITY_IAM --no-fail-on-empty-changeset)
if [ "${#params[@]}" -gt 0 ]; then
    deploy_args+=(--parameter-overrides "${params[@]}")
fi
cfn "${deploy_args[@]}"

# An existing stack given a release: roll it onto the instance.
if [ "$exists" -eq 1 ] && [ -n "$package_url" ]; then
    instance=$(output InstanceId)
    case "$instance" in
    "" | None) die "stack $stack names no InstanceId output" ;;
    esac
    say "upgrading $instance to $package_url (SSM Run Command)"
    # AWS-RunShellScript runs the commands with sh (dash on Debian 12,
    # which has no pipefail): POSIX sh only
    script="set -eu; d=\$(mktemp -d); cd \"\$d\";"
    script+=" curl -fsSL --retry 5 -o SHA256SUMS '$package_url/SHA256SUMS';"
    script+=" curl -fsSL --retry 5 -o instance-setup.sh '$package_url/instance-setup.sh';"
    script+=" grep ' instance-setup.sh\$' SHA256SUMS | sha256sum -c -;"
    script+=" bash instance-setup.sh '$package_url'"
    command_json=$(printf '{"commands":["%s"]}' \
        "$(printf '%s' "$script" | sed 's/\\/\\\\/g; s/"/\\"/g')")
    command_id=$(aws "${region_args[@]}" ssm send-command \
        --instance-ids "$instance" --document-name AWS-RunShellScript \
        --comment "EchoStream upgrade" --parameters "$command_json" \
        --query Command.CommandId --output text)
    # poll the command (the CLI's own waiter gives up after 100 s; an
    # upgrade with apt can take longer)
    status=Pending
    for _ in $(seq 180); do
        sleep "${ECHOSTREAM_POLL_SECONDS:-10}"
        status=$(aws "${region_args[@]}" ssm get-command-invocation \
            --command-id "$command_id" --instance-id "$instance" \
            --query Status --output text 2>/dev/null || echo Pending)
        case "$status" in Pending | InProgress | Delayed) continue ;; esac
        break
    done
    if [ "$status" != Success ]; then
        aws "${region_args[@]}" ssm get-command-invocation \
            --command-id "$command_id" --instance-id "$instance" \
            --query StandardErrorContent --output text >&2 || true
        die "the upgrade on $instance ended $status (command $command_id)"
    fi
    say "upgrade done"
fi

url=$(output DashboardUrl)
dns=$(output DnsRecord)
say "stack $stack is ready"
domain=${url#https://}
domain=${domain%/}
printf 'DNS: %s -> %s (made by the stack when it has HostedZoneId)\n' \
    "$domain" "$dns"
for i in 1 2 3; do
    printf 'DKIM: %s\n' "$(output "DkimRecord$i")"
done
printf 'Dashboard: %s\n' "$url"
