import Foundation

/// Timestamps of runs in UTC, to the whole second, written without
/// Foundation's date formatters: creating one loads ICU's calendar and
/// locale data, about 2 ms of every `koi score` (a test compares these with
/// `ISO8601DateFormatter` and `DateFormatter` on random instants).
enum UTCTime {
  /// `d` as a day number and the seconds of that day: the instant rounded
  /// to the millisecond (half up), then down to the second, as Foundation's
  /// formatters do (they hand ICU milliseconds).
  static func parts(_ d: Date) -> (day: Int32, secondsOfDay: Int) {
    let milliseconds = Int((d.timeIntervalSince1970 * 1000 + 0.5).rounded(.down))
    let (day, time) = milliseconds.quotientAndRemainder(dividingBy: 86_400_000)
    // Before 1970, a negative remainder belongs to the day before.
    let (d, ms) = time < 0 ? (day - 1, time + 86_400_000) : (day, time)
    return (Int32(clamping: d), ms / 1000)
  }

  /// `YYYY-MM-DDTHH:MM:SSZ`, as `ISO8601DateFormatter` writes it with
  /// `.withInternetDateTime` (run.json's `started_at` and `finished_at`).
  static func iso8601(_ d: Date) -> String {
    let (day, seconds) = parts(d)
    return DayNumber.format(day) + "T" + DayNumber.formatTime(secondsOfDay: seconds) + "Z"
  }

  /// `YYYYMMDDTHHMMSSZ` (a scheduled run's id starts with it).
  static func compact(_ d: Date) -> String {
    let (day, seconds) = parts(d)
    return DayNumber.format(day).replacingOccurrences(of: "-", with: "") + "T"
      + DayNumber.formatTime(secondsOfDay: seconds, separator: "") + "Z"
  }
}
