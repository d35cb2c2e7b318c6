#!/usr/bin/env python3
"""deploy/aws/cost.py - what the AWS deployment costs a month (docs/cost.md).

Prices the stack deploy/aws/template.yaml creates at 1, 10 and 100 tenants
from three files, so no figure is a guess hidden in code:
  prices.json    published list prices, each with its date and source (the
                 same file nginx's echostream_prices reads for /usage);
  volumes.json   the stated volumes (comments a day per tenant, topics,
                 summaries, alerts, e-mails, users) and the sizing rule;
  measured.json  what deploy/aws/measure.mjs measured on the real stack:
                 Redis bytes per stored comment and per tenant, archive
                 bytes per comment, Bedrock input tokens per brief.
Redis memory for the retention window decides the instance: the smallest
Graviton (t4g) whose RAM holds maxmemory with the sizing rule's headroom
(docs/install.md). The default deployment (VADER, daily briefs with the
Haiku-class default model, SES, the template's instance and volume) is
checked against the budget at 10 tenants; over it, the tool prints what to
change and what that change costs. Standard library only; exit status 2
on a bad input file (a price without a date or source is refused).
"""

import argparse
import json
import math
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
HOURS = 730.0  # hours in a month, as AWS bills
DAYS = 365.0 / 12  # days in a month
# Graviton burstable types the template runs, by RAM (GiB); t4g.nano's
# 0.5 GiB is not considered: Debian, nginx and five workers leave Redis
# too little of it
INSTANCES = [("t4g.micro", 1), ("t4g.small", 2),
             ("t4g.medium", 4), ("t4g.large", 8), ("t4g.xlarge", 16)]
MODELS = {"haiku": ("bedrock_haiku_input_mtok", "bedrock_haiku_output_mtok",
                    "Claude Haiku 4.5"),
          "haiku3": ("bedrock_haiku3_input_mtok", "bedrock_haiku3_output_mtok",
                     "Claude 3 Haiku"),
          "sonnet": ("bedrock_sonnet_input_mtok", "bedrock_sonnet_output_mtok",
                     "Claude Sonnet class")}
BEDROCK_BUDGET_DEFAULT = 1.00  # ES_BEDROCK_BUDGET_DEFAULT_USD (lib/es_schema.h)
LINES = ["instance", "ebs", "public_ipv4", "sqs", "s3_storage", "s3_put",
         "sentiment", "bedrock", "ses", "cognito", "transfer"]


class InputError(Exception):
    pass


def load_prices(path):
    try:
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
    except (OSError, ValueError) as e:
        raise InputError("%s: %s" % (path, e))
    prices = doc.get("prices")
    if not isinstance(prices, dict) or not prices:
        raise InputError("%s: no \"prices\" object" % path)
    for name, p in prices.items():
        if not isinstance(p, dict) or not isinstance(p.get("usd"), (int, float)) \
                or p["usd"] < 0:
            raise InputError("%s: price %s has no usd >= 0" % (path, name))
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", str(p.get("date", ""))):
            raise InputError("%s: price %s has no date (YYYY-MM-DD)" % (path, name))
        if not str(p.get("source", "")).startswith("https://"):
            raise InputError("%s: price %s has no source URL" % (path, name))
    return prices


def load_json(path, keys):
    try:
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
    except (OSError, ValueError) as e:
        raise InputError("%s: %s" % (path, e))
    for k in keys:
        if k not in doc:
            raise InputError("%s: missing \"%s\"" % (path, k))
    return doc


def template_defaults(path):
    """The template's InstanceType and VolumeSize defaults."""
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError as e:
        raise InputError("%s: %s" % (path, e))
    out = {}
    for name in ("InstanceType", "VolumeSize"):
        m = re.search(r"^  %s:\n(?:    .*\n)*?    Default: (\S+)" % name, text, re.M)
        if not m:
            raise InputError("%s: no default for %s" % (path, name))
        out[name] = m.group(1)
    return out["InstanceType"], int(out["VolumeSize"])


def price(prices, name):
    if name not in prices:
        raise InputError("prices: %s missing" % name)
    return prices[name]["usd"]


def memory(v, m, tenants, sizing):
    """Redis maxmemory (bytes) and host RAM (MiB) the retention needs."""
    r = m["redis"]
    # minute series and hourly terms are kept 48 hours, the rest the retention
    short = r.get("of_which_48h_bytes_per_comment", 0)
    per_day = v["comments_per_day_per_tenant"]
    data = r["baseline_bytes"] + tenants * (
        r["tenant_config_bytes"] +
        per_day * v["retention_days"] * (r["bytes_per_comment_stored"] - short) +
        per_day * min(2, v["retention_days"]) * short)
    # a day's backlog in the stream (a consumer down for a day)
    data += tenants * v["comments_per_day_per_tenant"] * r["stream_entry_bytes"]
    maxmemory = data * sizing["maxmemory_margin"]
    host_mb = maxmemory * sizing["host_ram_per_maxmemory"] / 2**20 + \
        sizing["host_ram_base_mb"]
    return maxmemory, host_mb


def pick_instance(host_mb):
    for name, gib in INSTANCES:
        if gib * 1024 >= host_mb:
            return name
    return None


def volume_gb(maxmemory):
    # Debian and the packages (4 GB), Redis's RDB and AOF (2 x its data),
    # the local raw archive; gp3's 8 GB minimum for a root volume
    return max(8, int(math.ceil(4 + 2.5 * maxmemory / 1e9)))


def monthly(tenants, prices, v, m, engine="vader", model="haiku",
            instance=None, volume=None, budget_cap=True):
    """Line items (USD a month) and the facts behind them."""
    maxmemory, host_mb = memory(v, m, tenants, VOLUMES["sizing"])
    need = pick_instance(host_mb)
    inst = instance or need
    if inst is None:
        raise InputError("%d tenants need %.0f MiB: beyond t4g.xlarge" % (tenants, host_mb))
    vol = volume or volume_gb(maxmemory)
    comments = tenants * v["comments_per_day_per_tenant"] * DAYS
    c = {}
    c["instance"] = price(prices, "ec2_%s_hour" % inst.replace(".", "_")) * HOURS
    c["ebs"] = price(prices, "ebs_gp3_gb_month") * vol
    c["public_ipv4"] = price(prices, "public_ipv4_hour") * HOURS
    sqs = prices["sqs_million_requests"]
    reqs = comments / v["sqs_messages_per_request"]
    c["sqs"] = max(0.0, reqs - sqs.get("free_per_month", 0)) / 1e6 * sqs["usd"]
    # objects of a few KB stay in S3 Standard until they expire (S3 moves
    # no object under 128 KB to Glacier IR), 365 days (ArchiveExpireAfterDays)
    stored_gb = tenants * v["comments_per_day_per_tenant"] * 365 * \
        m["archive"]["bytes_per_comment_zstd"] / 1e9
    c["s3_storage"] = stored_gb * price(prices, "s3_standard_gb_month")
    c["s3_put"] = comments / v["comments_per_archive_file"] / 1000 * \
        price(prices, "s3_put_thousand")
    units = max(3, math.ceil(v["comment_chars"] / 100))
    c["sentiment"] = 0.0 if engine == "vader" else \
        comments * units * price(prices, "comprehend_unit")
    s = m["summary"]
    pin, pout, label = MODELS[model]
    per_brief = (s["input_tokens_per_brief"] * price(prices, pin) +
                 s["output_tokens_per_brief"] * price(prices, pout)) / 1e6
    per_tenant = v["summaries_per_day_per_tenant"] * DAYS * per_brief
    capped = budget_cap and per_tenant > BEDROCK_BUDGET_DEFAULT
    c["bedrock"] = tenants * (BEDROCK_BUDGET_DEFAULT if capped else per_tenant)
    emails = tenants * DAYS * (v["alerts_per_day_per_tenant"] * v["emails_per_alert"] +
                               v["digest_emails_per_day_per_tenant"])
    c["ses"] = emails / 1000 * price(prices, "ses_thousand_emails")
    cog = prices["cognito_essentials_mau"]
    mau = tenants * v["active_users_per_tenant"]
    c["cognito"] = max(0, mau - cog.get("free_per_month", 0)) * cog["usd"]
    tr = prices["transfer_out_gb"]
    gb = mau * v["dashboard_mb_per_user_month"] / 1024
    c["transfer"] = max(0.0, gb - tr.get("free_per_month", 0)) * tr["usd"]
    facts = {"instance": inst, "instance_needed": need, "volume_gb": vol,
             "maxmemory_mb": maxmemory / 2**20, "host_mb": host_mb,
             "comments": comments, "sqs_requests": reqs, "archive_gb": stored_gb,
             "per_brief": per_brief, "bedrock_capped": capped, "model": label,
             "emails": emails, "mau": mau, "transfer_gb": gb}
    return c, facts


VOLUMES = {}


def table(rows, title):
    """rows: [(tenants, costs, facts)] -> the text table."""
    names = {"instance": "EC2 instance", "ebs": "EBS gp3 volume",
             "public_ipv4": "public IPv4 (Elastic IP)", "sqs": "SQS requests",
             "s3_storage": "S3 storage (archive)", "s3_put": "S3 PUTs",
             "sentiment": "sentiment", "bedrock": "Bedrock briefs",
             "ses": "SES e-mail", "cognito": "Cognito", "transfer": "data transfer out"}
    out = [title, ""]
    head = "| line item | " + " | ".join("%d tenant%s" % (t, "" if t == 1 else "s")
                                       for t, _, _ in rows) + " |"
    out += [head, "|---|" + "---:|" * len(rows)]
    for k in LINES:
        cells = []
        for _, c, f in rows:
            extra = ""
            if k == "instance":
                extra = " (%s)" % f["instance"]
            elif k == "ebs":
                extra = " (%d GB)" % f["volume_gb"]
            cells.append("%.2f%s" % (c[k], extra))
        out.append("| %s | %s |" % (names[k], " | ".join(cells)))
    out.append("| **total** | %s |" % " | ".join("**%.2f**" % sum(c.values())
                                                  for _, c, _ in rows))
    out.append("| per tenant | %s |" % " | ".join("%.2f" % (sum(c.values()) / t)
                                                  for t, c, _ in rows))
    out.append("")
    for t, c, f in rows:
        out.append("%d tenant%s: Redis maxmemory %.0f MiB, host RAM %.0f MiB -> %s; "
                   "%.0f comments/month; %.0f SQS requests; archive %.3f GB; "
                   "%s brief %.4f USD%s; %.0f e-mails; %d users"
                   % (t, "" if t == 1 else "s", f["maxmemory_mb"], f["host_mb"],
                      f["instance_needed"], f["comments"], f["sqs_requests"],
                      f["archive_gb"], f["model"], f["per_brief"],
                      " (capped by the 1.00 USD default monthly budget)"
                      if f["bedrock_capped"] else "", f["emails"], f["mau"]))
    return "\n".join(out)


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--prices", default=os.path.join(HERE, "prices.json"))
    ap.add_argument("--volumes", default=os.path.join(HERE, "volumes.json"))
    ap.add_argument("--measured", default=os.path.join(HERE, "measured.json"))
    ap.add_argument("--template", default=os.path.join(HERE, "template.yaml"))
    ap.add_argument("--tenants", default="1,10,100")
    ap.add_argument("--json", action="store_true", help="machine-readable output")
    a = ap.parse_args(argv)
    try:
        prices = load_prices(a.prices)
        VOLUMES.update(load_json(a.volumes, ["volumes", "sizing", "default_deployment"]))
        measured = load_json(a.measured, ["measured", "redis", "archive", "summary"])
        inst_default, vol_default = template_defaults(a.template)
        counts = [int(x) for x in a.tenants.split(",")]
        if not counts or min(counts) < 1:
            raise InputError("--tenants: positive numbers, e.g. 1,10,100")
        v = VOLUMES["volumes"]
        d = VOLUMES["default_deployment"]
        sized = [(t,) + monthly(t, prices, v, measured) for t in counts]
        alt = {}
        for label, kw in (("comprehend", {"engine": "comprehend"}),
                          ("sonnet", {"model": "sonnet"}),
                          ("sonnet_uncapped", {"model": "sonnet", "budget_cap": False}),
                          ("haiku3", {"model": "haiku3"})):
            alt[label] = [monthly(t, prices, v, measured, **kw)[0] for t in counts]
        dt = d["tenants"]
        dc, df = monthly(dt, prices, v, measured, engine=d["engine"],
                         model=d["bedrock_class"], instance=inst_default,
                         volume=vol_default)
    except InputError as e:
        print("cost: %s" % e, file=sys.stderr)
        return 2

    total = sum(dc.values())
    advice = []
    if df["instance_needed"] != inst_default and \
            [n for n, _ in INSTANCES].index(df["instance_needed"]) > \
            [n for n, _ in INSTANCES].index(inst_default):
        advice.append("InstanceType=%s: %d tenants need %.0f MiB of RAM"
                      % (df["instance_needed"], dt, df["host_mb"]))
    if total > d["budget_usd"]:
        # the changes that keep the stated volumes, cheapest first
        fix_inst = df["instance_needed"]
        fix_vol = volume_gb(df["maxmemory_mb"] * 2**20)
        fc, _ = monthly(dt, prices, v, measured, instance=fix_inst, volume=fix_vol)
        if fix_inst != inst_default:
            advice.append("InstanceType=%s (the measured retention of %d tenants needs "
                          "%.0f MiB of RAM, it has %d): -%.2f USD"
                          % (fix_inst, dt, df["host_mb"],
                             dict(INSTANCES)[fix_inst] * 1024, dc["instance"] - fc["instance"]))
        if fix_vol < vol_default:
            advice.append("VolumeSize=%d (Redis's files need %d GB at most): -%.2f USD"
                          % (fix_vol, fix_vol, dc["ebs"] - fc["ebs"]))
        hc, _ = monthly(dt, prices, v, measured, model="haiku3", instance=fix_inst,
                        volume=fix_vol)
        if sum(fc.values()) > d["budget_usd"]:
            advice.append("BedrockModelId=anthropic.claude-3-haiku-20240307-v1:0 with "
                          "BedrockPriceInputPerMtok=%.2f and BedrockPriceOutputPerMtok=%.2f "
                          "(the spend the workers meter): -%.2f USD"
                          % (price(prices, "bedrock_haiku3_input_mtok"),
                             price(prices, "bedrock_haiku3_output_mtok"),
                             fc["bedrock"] - hc["bedrock"]))
            fc = hc
        advice.append("total after these changes: %.2f USD (%s)"
                      % (sum(fc.values()), "under" if sum(fc.values()) <= d["budget_usd"]
                         else "STILL OVER"))

    if a.json:
        json.dump({"prices_file": a.prices, "measured": measured["measured"],
                   "tenants": [{"tenants": t, "lines": c, "total": sum(c.values()),
                                "facts": f} for t, c, f in sized],
                   "alternatives": {k: [sum(c.values()) for c in cs] for k, cs in alt.items()},
                   "default": {"tenants": dt, "instance": inst_default,
                               "volume_gb": vol_default, "lines": dc, "total": total,
                               "budget": d["budget_usd"],
                               "under_budget": total <= d["budget_usd"],
                               "change": advice}}, sys.stdout, indent=2)
        print()
        return 0

    dates = sorted({p["date"] for p in prices.values()})
    print("EchoStream on AWS, USD a month (%s list prices of %s; measured %s)"
          % (VOLUMES.get("region", "us-east-1"), ", ".join(dates), measured["measured"]))
    print("volumes per tenant: %d comments/day kept %d days, %d topics, %d briefs/day, "
          "%d alerts/day x %d e-mails + %d digests/day, %d users"
          % (v["comments_per_day_per_tenant"], v["retention_days"], v["topics_per_tenant"],
             v["summaries_per_day_per_tenant"], v["alerts_per_day_per_tenant"],
             v["emails_per_alert"], v["digest_emails_per_day_per_tenant"],
             v["active_users_per_tenant"]))
    print()
    print(table(sized, "Sized to the measured memory (VADER, Claude Haiku 4.5 briefs, SES):"))
    print()
    print("| alternative (total) | %s |" % " | ".join("%d" % t for t in counts))
    print("|---|" + "---:|" * len(counts))
    for label, name in (("comprehend", "Comprehend instead of VADER"),
                        ("haiku3", "Claude 3 Haiku briefs"),
                        ("sonnet", "Sonnet-class briefs (1.00 USD default budget)"),
                        ("sonnet_uncapped", "Sonnet-class briefs, no budget cap")):
        print("| %s | %s |" % (name, " | ".join("%.2f" % sum(c.values()) for c in alt[label])))
    print()
    print("default deployment at %d tenants (template: %s, %d GB; VADER, Claude Haiku 4.5, "
          "SES): %.2f USD, budget %.2f: %s"
          % (dt, inst_default, vol_default, total, d["budget_usd"],
             "under" if total <= d["budget_usd"] else "OVER"))
    for line in advice:
        print("  change: %s" % line)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
