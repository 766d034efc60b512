import SystemPackage

extension FileDescriptor {
    /// Appends what one `read` returns (an interrupted read is retried); 0 at the end.
    package func readSome(into contents: inout [UInt8]) throws(Errno) -> Int {
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        let count: Int
        do { count = try chunk.withUnsafeMutableBytes { try read(into: $0) } } catch {
            throw error as? Errno ?? .ioError
        }
        contents += chunk.prefix(count)
        return count
    }

    /// Everything left to read: a pipe's or a terminal's input, read until its end.
    package func readToEnd() throws(Errno) -> [UInt8] {
        var contents: [UInt8] = []
        while try readSome(into: &contents) > 0 {}
        return contents
    }
}
