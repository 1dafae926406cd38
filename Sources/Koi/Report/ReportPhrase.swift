/// A phrase of report.html in both languages; every phrase is defined with
/// both, so none can be missing in one.
struct ReportPhrase: Sendable {
  let zh: String
  let en: String

  static let title = ReportPhrase(zh: "客户分层与价值报告", en: "Customer segments and value report")
  static let asOf = ReportPhrase(zh: "数据截止日", en: "As of")
  static let generatedBy = ReportPhrase(zh: "由 Koi 生成", en: "Made by Koi")
  static let dataTable = ReportPhrase(zh: "数据表", en: "Data table")
  static let missingPrefix = ReportPhrase(zh: "本节缺少数据：", en: "Not available: ")
  static let stageLeftOut = ReportPhrase(
    zh: "本次运行未包含该阶段（--stages），因此没有这一部分。", en: "This run left the stage out (--stages), so there is nothing to show.")
  static let noCustomers = ReportPhrase(zh: "本次运行没有客户。", en: "The run has no customers.")

  // Overview
  static let overview = ReportPhrase(zh: "概览", en: "Overview")
  static let overviewGuide = ReportPhrase(
    zh: "先看这里：客户规模、收入、收入集中度（二八原则）和仍然活跃的客户。",
    en:
      "Start here: how many customers, how much revenue, how concentrated it is (the 80/20 check) and how many are still active."
  )
  static let customers = ReportPhrase(zh: "客户数", en: "Customers")
  static let netRevenue = ReportPhrase(zh: "净收入", en: "Net revenue")
  static let top20Share = ReportPhrase(zh: "前 20% 客户贡献的收入占比", en: "Revenue share of the top 20% of customers")
  static let activeCustomers = ReportPhrase(zh: "活跃客户（存活概率 ≥ 0.5）", en: "Active customers (P(alive) ≥ 0.5)")
  static let expectedRevenue = ReportPhrase(zh: "预期收入（未来 %d 天）", en: "Expected revenue (next %d days)")
  static let totalCLV = ReportPhrase(zh: "客户终身价值合计（折现）", en: "Customer lifetime value, total (discounted)")
  static let rowsRead = ReportPhrase(zh: "读取行数", en: "Rows read")
  static let rowsUsed = ReportPhrase(zh: "使用行数", en: "Rows used")
  static let rowsRejected = ReportPhrase(zh: "拒绝行数", en: "Rows rejected")
  static let stagesRun = ReportPhrase(zh: "运行的阶段", en: "Stages run")
  static let warnings = ReportPhrase(zh: "警告", en: "Warnings")

  // RFM
  static let rfm = ReportPhrase(zh: "RFM 价值分层", en: "RFM value layers")
  static let rfmGuide = ReportPhrase(
    zh: "右上角是最近来过、常来且花费高的客户；颜色越深，格子里的客户或收入越多。",
    en:
      "The top right holds customers who came recently, often and spent most; the darker a cell, the more customers or revenue in it."
  )
  static let recencyScore = ReportPhrase(zh: "R 评分（5 = 最近）", en: "R score (5 = most recent)")
  static let fmScore = ReportPhrase(zh: "FM 评分（F 与 M 的平均，5 = 最高）", en: "FM score (mean of F and M; 5 = highest)")
  static let gridCustomers = ReportPhrase(zh: "各格客户数", en: "Customers per cell")
  static let gridRevenue = ReportPhrase(zh: "各格净收入", en: "Net revenue per cell")
  static let segmentShares = ReportPhrase(zh: "各分层的客户占比与收入占比", en: "Customer share and revenue share per segment")
  static let shareOfCustomers = ReportPhrase(zh: "客户占比", en: "Share of customers")
  static let shareOfRevenue = ReportPhrase(zh: "收入占比", en: "Share of revenue")
  static let share = ReportPhrase(zh: "占比", en: "Share")

  // Tiers
  static let tiers = ReportPhrase(zh: "四类价格敏感度客群", en: "The four price-sensitivity tiers")
  static let tiersGuide = ReportPhrase(
    zh: "每类客群的人数与收入占比、行为画像（原始单位），以及它们在“懂行程度”和“价格敏感度”两个轴上的位置。",
    en:
      "Each tier's size and revenue share, its behaviour in original units, and where it sits on the savvy and price-sensitivity axes."
  )
  static let tierShares = ReportPhrase(zh: "各客群的客户占比与收入占比", en: "Customer share and revenue share per tier")
  static let tierProfiles = ReportPhrase(zh: "各客群画像（聚类中心，原始单位）", en: "Tier profiles (cluster centres, original units)")
  static let tierPositions = ReportPhrase(
    zh: "客群在两个轴上的位置（圆面积 = 客户占比）", en: "Where the tiers sit on the two axes (circle area = share of customers)")
  static let novice = ReportPhrase(zh: "不太懂", en: "novice")
  static let savvy = ReportPhrase(zh: "很懂", en: "savvy")
  static let qualityFocused = ReportPhrase(zh: "在意品质", en: "quality-focused")
  static let priceSensitive = ReportPhrase(zh: "价格敏感", en: "price-sensitive")
  static let tier = ReportPhrase(zh: "客群", en: "Tier")

  // Repurchase
  static let repurchase = ReportPhrase(zh: "复购周期", en: "Repurchase intervals")
  static let repurchaseGuide = ReportPhrase(
    zh: "每个项目两次购买之间的典型间隔（橙色区间为 P10–P90，竖线为中位数），各状态的客户数，以及未来 12 周每周预计的购买人次。",
    en:
      "The typical gap between two purchases of each treatment (orange band P10–P90, line the median), customers per status, and the purchases expected in each of the next 12 weeks."
  )
  static let gapDensity = ReportPhrase(zh: "复购间隔分布", en: "Repurchase gap distribution")
  static let gapDays = ReportPhrase(zh: "间隔（天）", en: "Gap (days)")
  static let density = ReportPhrase(zh: "密度", en: "Density")
  static let median = ReportPhrase(zh: "中位数", en: "median")
  static let noCurve = ReportPhrase(zh: "无拟合分布", en: "no fitted distribution")
  static let statusCounts = ReportPhrase(zh: "各项目客户状态", en: "Customers per status and treatment")
  static let dueCalendar = ReportPhrase(
    zh: "到期日历：未来 12 周每周预计购买人次（概率之和）",
    en: "Due calendar: expected purchases per week, next 12 weeks (sum of probabilities)")
  static let dueCalendarNote = ReportPhrase(
    zh: "每位客户的 30/60/90 天购买概率在各 30 天内按天均匀分配到各周，因此同一个 30 天内的几周数值相同。",
    en:
      "Each customer's 30/60/90-day probabilities are spread evenly over the days of each 30-day window, so the weeks within one window show the same value."
  )
  static let moreTreatments = ReportPhrase(
    zh: "图中只列出客户最多的 24 个项目；另有 %d 个项目见 segments.json。",
    en: "The charts show the 24 treatments with the most customers; %d more are in segments.json.")
  static let week = ReportPhrase(zh: "周", en: "Week")
  static let treatment = ReportPhrase(zh: "项目", en: "Treatment")
  static let dueListed = ReportPhrase(zh: "到期名单人数（%d 天内）", en: "Customers on the due list (within %d days)")
  static let dueListNote = ReportPhrase(
    zh: "名单本身在 due.json 中；报告不列出客户编号。", en: "The lists themselves are in due.json; the report shows no customer ids.")
  static let basis = ReportPhrase(zh: "依据", en: "Basis")
  static let medianGap = ReportPhrase(zh: "中位间隔", en: "Median gap")

  // Lifetime
  static let lifetime = ReportPhrase(zh: "客户终身价值", en: "Lifetime value")
  static let lifetimeGuide = ReportPhrase(
    zh: "客户仍然活跃的概率分布、各分层与客群的终身价值，以及价值集中在多少客户身上（洛伦兹曲线越弯，越集中）。",
    en:
      "How likely customers are to be still active, lifetime value by segment and tier, and how concentrated that value is (the more the Lorenz curve bends, the more concentrated)."
  )
  static let pAliveHistogram = ReportPhrase(zh: "存活概率分布", en: "P(alive) distribution")
  static let pAlive = ReportPhrase(zh: "存活概率", en: "P(alive)")
  static let clvBySegment = ReportPhrase(zh: "各分层终身价值合计", en: "Lifetime value by segment")
  static let clvByTier = ReportPhrase(zh: "各客群终身价值合计", en: "Lifetime value by tier")
  static let clv = ReportPhrase(zh: "终身价值（¥）", en: "Lifetime value (¥)")
  static let lorenz = ReportPhrase(zh: "终身价值洛伦兹曲线", en: "Lorenz curve of lifetime value")
  static let cumCustomers = ReportPhrase(zh: "客户累计占比（由低到高）", en: "Cumulative share of customers (lowest value first)")
  static let cumCLV = ReportPhrase(zh: "终身价值累计占比", en: "Cumulative share of lifetime value")
  static let gini = ReportPhrase(zh: "基尼系数", en: "Gini coefficient")
  static let modelTable = ReportPhrase(zh: "所选模型及参数", en: "Chosen model and parameters")
  static let model = ReportPhrase(zh: "模型", en: "Model")
  static let parameter = ReportPhrase(zh: "参数", en: "Parameter")
  static let value = ReportPhrase(zh: "数值", en: "Value")
  static let horizon = ReportPhrase(zh: "预测期（天）", en: "Horizon (days)")
  static let discountRate = ReportPhrase(zh: "年折现率", en: "Annual discount rate")
  static let margin = ReportPhrase(zh: "毛利率", en: "Margin")

  // Change
  static let change = ReportPhrase(zh: "与上次运行相比", en: "Change since the previous run")
  static let changeGuide = ReportPhrase(
    zh: "对角线上的客户留在原分层；对角线以外的格子是移动的客户，重点看移入“流失风险”的客户。",
    en: "Customers on the diagonal kept their segment; the other cells are moves, above all those into at risk.")
  static let noPreviousRun = ReportPhrase(
    zh: "没有上次运行可比较（koi score 的结果，或定时运行的第一次）。",
    en: "There is no previous run to compare with (a koi score result, or the first scheduled run).")
  static let migration = ReportPhrase(
    zh: "分层迁移矩阵（行 = 上次，列 = 本次）", en: "Segment migration (rows: previous run, columns: this run)")
  static let tierMigration = ReportPhrase(
    zh: "客群变化（行 = 上次，列 = 本次）", en: "Tier changes (rows: previous run, columns: this run)")
  static let previousRun = ReportPhrase(zh: "上次", en: "Previous")
  static let thisRun = ReportPhrase(zh: "本次", en: "This run")
  static let movedIntoAtRisk = ReportPhrase(
    zh: "移入流失风险类分层的客户（流失风险、重要挽留、沉睡、已流失）",
    en: "Customers moved into at risk (at risk, can't lose them, hibernating, lost)")
  static let newSinceLast = ReportPhrase(zh: "上次之后的新客户", en: "Customers new since the previous run")
  static let segmentSizesOverRuns = ReportPhrase(zh: "近几次运行的分层人数", en: "Segment sizes over the last runs")
  static let run = ReportPhrase(zh: "运行（截止日）", en: "Run (as-of date)")
  static let none = ReportPhrase(zh: "无", en: "none")

  // Predictions
  static let predictions = ReportPhrase(zh: "以往预测的准确度", en: "How earlier predictions fared")
  static let predictionsGuide = ReportPhrase(
    zh: "以往运行对 30 天内复购的预测与之后实际发生的购买对比：Brier 分数越低越好，名单命中率越高越好。",
    en:
      "Earlier runs' 30-day repurchase probabilities against the purchases that have since arrived: the lower the Brier score and the higher the hit rate of due lists, the better."
  )
  static let predictionsNone = ReportPhrase(
    zh: "还没有可以检验的以往预测：定时运行（koi run）在预测窗口（30 天）过去之后才能检验。",
    en:
      "No earlier prediction can be checked yet: scheduled runs (koi run) check them once their 30-day window has passed."
  )

  static let checkedRun = ReportPhrase(zh: "最近检验的运行（截止日）", en: "Latest run checked (as of)")
  static let pairs = ReportPhrase(zh: "检验的客户-项目对", en: "Customer-treatment pairs checked")
  static let brier = ReportPhrase(zh: "Brier 分数", en: "Brier score")
  static let baseRateBrier = ReportPhrase(
    zh: "基准（总是预测平均购买率）", en: "Baseline (always the average rate)")
  static let baseRate = ReportPhrase(zh: "实际 30 天购买率", en: "Share that bought within 30 days")
  static let dueHitRate = ReportPhrase(
    zh: "到期名单命中率（名单中 30 天内购买的比例）", en: "Due-list hit rate (listed pairs that bought within 30 days)")
  static let hitRate = ReportPhrase(zh: "命中率", en: "Hit rate")
  static let brierOverRuns = ReportPhrase(zh: "各次运行的 Brier 分数", en: "Brier score over runs")
  static let hitRateOverRuns = ReportPhrase(zh: "各次运行的到期名单命中率", en: "Due-list hit rate over runs")
  static let calibration = ReportPhrase(
    zh: "最近一次检验的校准（按预测概率十分位）", en: "Calibration of the latest check (by decile of the predicted probability)")
  static let predicted = ReportPhrase(zh: "预测概率（均值）", en: "Predicted probability (mean)")
  static let observed = ReportPhrase(zh: "实际购买比例", en: "Observed share that bought")
  static let checkedRuns = ReportPhrase(zh: "被检验的运行（截止日）", en: "Run checked (as-of date)")

  // Backtest
  static let backtestTitle = ReportPhrase(zh: "回测报告", en: "Backtest report")
  static let backtestRepurchase = ReportPhrase(zh: "复购概率回测", en: "Repurchase probabilities against what happened")
  static let backtestRepurchaseGuide = ReportPhrase(
    zh: "截止日之前拟合，之后实际发生的购买对比：点越贴近对角线，概率越可信；Brier 越低越好。",
    en:
      "Fitted before the cutoff, compared with the purchases after it: the closer the points to the diagonal, the more the probabilities can be trusted; the lower the Brier score, the better."
  )
  static let backtestLifetime = ReportPhrase(zh: "终身价值模型回测", en: "Lifetime models against what happened")
  static let backtestLifetimeGuide = ReportPhrase(
    zh: "按截止日前的复购次数分组，每位客户在截止日之后的预测购买次数与实际次数对比。",
    en:
      "Customers grouped by their repeat purchases before the cutoff: predicted against actual purchases per customer after it."
  )
  static let cutoff = ReportPhrase(zh: "截止日", en: "Cutoff")
  static let baseline = ReportPhrase(zh: "基准", en: "baseline")
  static let calibrationWithin = ReportPhrase(zh: "%d 天内购买概率的校准", en: "Calibration, purchase within %d days")
  static let backtestScores = ReportPhrase(zh: "各窗口的 Brier 分数与 AUC", en: "Brier score and AUC per window")
  static let windowDays = ReportPhrase(zh: "窗口（天）", en: "Window (days)")
  static let maeNextPurchase = ReportPhrase(zh: "下次购买日期平均绝对误差", en: "Mean absolute error of the next-purchase date")
  static let actualPurchases = ReportPhrase(zh: "截止日后实际购买次数", en: "Actual purchases after the cutoff")
  static let predictedPurchases = ReportPhrase(zh: "预测购买次数", en: "Predicted purchases")
  static let meanPredicted = ReportPhrase(zh: "平均预测", en: "Mean predicted")
  static let meanActual = ReportPhrase(zh: "平均实际", en: "Mean actual")
  static let purchasesPerCustomer = ReportPhrase(zh: "每位客户购买次数", en: "Purchases per customer")
  static let byRepeats = ReportPhrase(
    zh: "按截止日前复购次数分组（✓ = 选用的模型）", en: "By repeat purchases before the cutoff (✓ = the chosen model)")

  // Data quality
  static let quality = ReportPhrase(zh: "数据质量", en: "Data quality")
  static let qualityGuide = ReportPhrase(
    zh: "被拒绝的行按原因统计并给出前几个示例（行号、字段），以及检测到的编码和列映射。",
    en:
      "Rejected rows by reason with the first examples (line, field), the detected encoding and how columns were mapped."
  )
  static let rejectsByReason = ReportPhrase(zh: "按原因统计的拒绝行", en: "Rejected rows by reason")
  static let reason = ReportPhrase(zh: "原因", en: "Reason")
  static let rows = ReportPhrase(zh: "行数", en: "Rows")
  static let firstExamples = ReportPhrase(zh: "前几个示例", en: "First examples")
  static let file = ReportPhrase(zh: "文件", en: "File")
  static let line = ReportPhrase(zh: "行号", en: "Line")
  static let field = ReportPhrase(zh: "字段", en: "Field")
  static let noRejects = ReportPhrase(zh: "没有被拒绝的行。", en: "No row was rejected.")
  static let encoding = ReportPhrase(zh: "编码", en: "Encoding")
  static let detected = ReportPhrase(zh: "（自动检测）", en: " (detected)")
  static let columns = ReportPhrase(zh: "列映射", en: "Columns mapped")
  static let canonical = ReportPhrase(zh: "标准列", en: "Column")
  static let header = ReportPhrase(zh: "文件表头", en: "Header in the file")
  static let rejectsNote = ReportPhrase(
    zh: "每行的原文在 rejects.csv 中；报告不显示原文（可能含客户编号）。",
    en: "Each row's text is in rejects.csv; the report does not show it (it may hold customer ids).")
}
