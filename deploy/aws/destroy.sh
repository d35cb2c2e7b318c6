#!/usr/bin/env bash
#
# destroy.sh - deletes the EchoStream stack. The raw-archive bucket and the
# Cognito user pool (the users' accounts) outlive it unless asked for.
#
#   deploy/aws/destroy.sh [options]
#
#   --stack NAME         the stack (default echostream, or $ECHOSTREAM_STACK)
#   --region REGION      AWS region (default: the AWS CLI's)
#   --delete-bucket      also empty and delete the raw-archive bucket
#   --delete-user-pool   also delete the user pool and every account in it
#   --yes                do not ask (otherwise type the stack's name)
#   -h, --help           this text
#
# The template marks the bucket and the user pool DeletionPolicy: Retain,
# so deleting the stack leaves them; this script names them and removes
# them only when told to. Everything else (the instance and its volume with
# Redis's data, the queues, the SES identity, the network) is deleted.
set -euo pipefail

PROG=destroy
USAGE_LINES=3,14
# shellcheck source=deploy/aws/stack.sh
. "$(dirname "$0")/stack.sh"

delete_bucket=0
delete_pool=0
yes=0

while [ $# -gt 0 ]; do
    stack_option "$@"
    if [ "$taken" -gt 0 ]; then
        shift "$taken"
        continue
    fi
    case "$1" in
    --delete-bucket)
        delete_bucket=1
        shift
        ;;
    --delete-user-pool)
        delete_pool=1
        shift
        ;;
    --yes)
        yes=1
        shift
        ;;
    *)
        usage >&2
        die "unexpected argument '$1'"
        ;;
    esac
done

stack_need_aws


cfn describe-stacks --stack-name "$stack" >/dev/null 2>&1 ||
    die "no stack $stack"
bucket=$(output ArchiveBucketName)
pool=$(output UserPoolId)

if [ "$yes" -ne 1 ]; then
    [ -t 0 ] || die "not a terminal: pass --yes to delete stack $stack"
    printf 'Delete stack %s%s%s? Type its name: ' "$stack" \
        "$([ "$delete_bucket" -eq 1 ] && printf ', bucket %s' "$bucket")" \
        "$([ "$delete_pool" -eq 1 ] && printf ', user pool %s' "$pool")" >&2
    read -r answer
    [ "$answer" = "$stack" ] || die "not confirmed; nothing deleted"
fi

say "deleting stack $stack"
cfn delete-stack --stack-name "$stack"
cfn wait stack-delete-complete --stack-name "$stack"
say "stack $stack deleted"

if [ "$delete_bucket" -eq 1 ] && [ -n "$bucket" ] && [ "$bucket" != None ]; then
    say "emptying and deleting bucket $bucket"
    aws "${region_args[@]}" s3 rm "s3://$bucket" --recursive
    aws "${region_args[@]}" s3api delete-bucket --bucket "$bucket"
elif [ -n "$bucket" ] && [ "$bucket" != None ]; then
    say "kept bucket $bucket (the raw archive; --delete-bucket removes it)"
fi

if [ "$delete_pool" -eq 1 ] && [ -n "$pool" ] && [ "$pool" != None ]; then
    say "deleting user pool $pool"
    aws "${region_args[@]}" cognito-idp delete-user-pool --user-pool-id "$pool"
elif [ -n "$pool" ] && [ "$pool" != None ]; then
    say "kept user pool $pool (the accounts; --delete-user-pool removes it)"
fi
