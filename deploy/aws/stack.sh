# shellcheck shell=bash
# deploy/aws/stack.sh - what deploy.sh and destroy.sh share (sourced, never
# run): messages, the options both take, and the CloudFormation calls on
# the one stack they work on. One copy, so both scripts name a stack and a
# region the same way and read outputs the same way.
#
# The sourcing script sets PROG (its name in messages) and USAGE_LINES (the
# sed range of its header that --help prints) first. After sourcing: stack
# (default echostream, or $ECHOSTREAM_STACK) and region_args.

say() { printf '%s: %s\n' "$PROG" "$*" >&2; }
die() {
    say "error: $*"
    exit 1
}
usage() { sed -n "${USAGE_LINES}p" "$0" | sed 's/^# \{0,1\}//'; }

stack=${ECHOSTREAM_STACK:-echostream}
region_args=()

# Takes one of the shared options off the front of the arguments: sets
# `taken` to how many words it used (0 when the option is not a shared
# one, for the caller's own case statement).
# shellcheck disable=SC2034 # taken is read by the sourcing script
stack_option() { # "$@"
    taken=0
    case "$1" in
    -h | --help)
        usage
        exit 0
        ;;
    --stack)
        [ $# -ge 2 ] || die "--stack needs a name"
        stack=$2
        taken=2
        ;;
    --region)
        [ $# -ge 2 ] || die "--region needs a region"
        region_args=(--region "$2")
        taken=2
        ;;
    esac
}

# Stops with a pointer to the docs when the AWS CLI is missing.
stack_need_aws() {
    command -v aws >/dev/null 2>&1 ||
        die "the AWS CLI (aws) is not installed: see docs/deploy.md"
}

cfn() { aws "${region_args[@]}" cloudformation "$@"; }

# One output's or parameter's value of the stack ("None" when it has none).
stack_value() { # Outputs|Parameters key
    local kind=${1%s}
    cfn describe-stacks --stack-name "$stack" \
        --query "Stacks[0].$1[?${kind}Key=='$2'].${kind}Value" \
        --output text
}
output() { stack_value Outputs "$1"; }
