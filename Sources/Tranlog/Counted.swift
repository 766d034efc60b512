/// "1 record", "2 records": a count with its noun, for messages people read.
public func counted(_ count: some BinaryInteger, _ singular: String, plural: String? = nil) -> String {
    "\(count) \(count == 1 ? singular : plural ?? singular + "s")"
}
