extension RunConfig {
  /// The commented example `koi init` writes. It parses as is (tested).
  public static let exampleTOML = #"""
    # Koi scheduled run configuration (koi run --config koi.toml).
    # Relative paths are relative to this file. Unknown keys are errors.

    # Where runs are kept: OUT/runs/<run-id>/, OUT/latest, OUT/history.sqlite.
    output_directory = "out"
    # Keep the newest N run directories; older ones are deleted after a successful run.
    runs_to_keep = 14
    # "today" (in time_zone, when the run starts) or a date: as_of = 2025-07-01.
    # Rows dated on or after the as-of date are rejected (after_as_of).
    as_of = "today"
    # IANA time zone for "today".
    time_zone = "Asia/Shanghai"

    [input]
    # A file (CSV, CSV.gz, .xlsx), a directory (its *.csv, *.csv.gz, *.xlsx by
    # name), a glob ("exports/2025-*.csv", by path), or a list of them, read
    # in the order given: path = ["exports/2025-*.csv", "extra.xlsx"].
    path = "transactions.csv"
    # auto (UTF-8, or GB18030 when not UTF-8), utf8 or gb18030.
    encoding = "auto"
    # true: stop at the first bad row (exit code 2) instead of rejecting it.
    strict = false
    # Workbooks: the sheet to read, by name or number, or "all" (every visible
    # sheet); default the first visible sheet.
    # sheet = "all"
    # The line (workbook row) the header is on, below any title rows.
    header_row = 1
    # Rows repeating a row of an earlier file exactly: "report" (warn, keep)
    # or "drop-across-files" (reject as duplicate_across_files).
    duplicates = "report"

    # Read canonical columns from other headers (optional).
    [input.columns]
    # customer_id = "会员卡号"
    # amount = "实收"

    [stages]
    # Stages to run, any of: rfm, tiers, intervals, lifetime.
    run = ["rfm", "tiers", "intervals", "lifetime"]

    [stages.rfm]
    # Score levels for R, F and M (2-100).
    bins = 5

    [stages.tiers]
    # Price-sensitivity tiers by k-means. Clusters (2-256; 4 = one per tier).
    k = 4
    restarts = 4
    seed = 0
    # Behaviour features to cluster on (also: tenure_days, channel_share).
    features = ["discount_depth", "promo_share", "premium_share", "breadth", "purchase_days", "net_spend"]

    [stages.intervals]
    # Leave customers below this probability of buying within
    # exports.due_within_days off the due lists; at most due_limit per treatment.
    due_min_probability = 0.25
    # due_limit = 500
    # Treatments with fewer repeat gaps than this use their category prior.
    minimum_gaps = 30
    # next-purchase dates lie within this many days; less likely than not
    # to buy within it = status "lapsed"
    next_within_days = 365
    # false keeps the interval model's own 30/60/90-day probabilities
    # (faster on very large files) instead of boosted trees
    propensity = true

    [stages.lifetime]
    # Expected purchases and CLV look this many days ahead.
    horizon_days = 365
    # Annual discount rate (0.1 = 10% a year), applied in 30-day steps.
    discount_rate = 0.1
    # Gross margin as a fraction of spend.
    margin = 1.0
    # Largest k of the regular-timing model MBG/CNBD-k (0: BG/NBD only).
    max_erlang_k = 4

    # Typical repurchase cycle per item in days, or "one_off" (implants, surgery).
    # One-off customers feed the cross_sell list; cycles are passed to the interval stage.
    [category_priors]
    # "Hyaluronic acid filler" = 180
    # "Botulinum toxin" = 120
    # "Dental implant" = "one_off"

    [exports]
    # Lists to write under runs/<id>/exports/; the order breaks contact-cap ties.
    lists = ["due_soon", "high_value_at_risk", "koc_candidates", "win_back", "cross_sell"]
    # Horizon of due_soon.
    due_within_days = 30
    # No customer is on more than this many lists per run (highest priority kept).
    contact_cap = 2
    # Share of customers by net amount counted as high value.
    high_value_share = 0.2
    # Non-empty: exports carry HMAC-SHA256 pseudonyms instead of customer ids.
    hash_ids_salt = ""
    # Also write each list as CSV (UTF-8 with BOM, formula-escaped).
    csv = true
    # Language of the CSVs' headers and reasons: "en", or "zh" (客户编号, 原因, 优先级)
    # for operators who open them in Excel. JSON exports stay English.
    lang = "en"

    [report]
    # Each run directory gets report.html (charts, no script, prints on A4):
    # "zh" (Chinese) or "en". enabled = false leaves it out.
    lang = "zh"
    enabled = true

    # Tag rules. Without any [[tags]] the built-in rules apply (vip, high_value,
    # win_back, koc_candidate, one_off_only, {category}_due_30d). A tag is given
    # when every condition in `all` holds and at least one in `any` holds.
    # Conditions: "FACT OP VALUE", OP one of == != >= <= > < in.
    # Facts: segment, r_score, f_score, m_score, monetary, monetary_percentile,
    # average_order_value, recency_days, frequency, one_off_only, tier_id, tier_name,
    # p_alive, clv; per category (per_category = true): due_in_days, due_probability.
    # A rule whose fact is not available yet does not fire (the run warns once).
    # Optional, for the SCRM: group (WeCom tag group) and name_zh (the name
    # operators see; {category} is replaced by the category's name). Exports
    # carry `name`; exports/tag_dictionary.json maps it to group and name_zh.
    # WeCom's limits are checked here: names and groups at most 30 characters,
    # at most 3,000 rules.
    [[tags]]
    name = "vip"
    group = "客户价值"
    name_zh = "VIP客户"
    any = ["segment == champions", "monetary_percentile >= 0.95"]

    [[tags]]
    name = "high_value"
    group = "客户价值"
    name_zh = "高价值客户"
    all = ["monetary_percentile >= 0.8"]

    [[tags]]
    name = "win_back"
    group = "客户状态"
    name_zh = "待挽回"
    all = ["segment in [at_risk, cant_lose_them, hibernating]"]

    [[tags]]
    name = "koc_candidate"
    group = "客户价值"
    name_zh = "KOC候选"
    all = ["tier_id == 2", "monetary_percentile >= 0.8"]

    [[tags]]
    name = "one_off_only"
    group = "消费特征"
    name_zh = "仅一次性项目"
    all = ["one_off_only == true"]

    [[tags]]
    name = "{category}_due_30d"
    group = "复购提醒"
    name_zh = "{category}30天内到期"
    per_category = true
    all = ["due_in_days <= 30"]

    """#
}
