/// Request body bytes buffered across every connection of one `HTTPServer`, bounded by
/// `maxBufferedRequestBytes`: a body is reserved before it is read and released once its request
/// is answered or its connection closes. Loop-confined, like the server.
final class HTTPRequestBudget {
    let limit: Int
    private(set) var buffered = 0

    init(limit: Int) {
        self.limit = limit
    }

    /// Takes room for `bytes` more; false (taking nothing) when that would pass the limit.
    func reserve(_ bytes: Int) -> Bool {
        guard bytes <= limit - buffered else { return false }
        buffered += bytes
        return true
    }

    func release(_ bytes: Int) {
        buffered -= bytes
    }
}
