import Tranlog

/// A position checked against the data directory's own tranlogs: if they hold its seqno, that record
/// must be the one named (epoch, event id, source id, CRC), and an event id given must start the
/// record of that seqno. A record that agrees completes the position (event id, time, CRC).
struct LocalRecordCheck {
    private(set) var refusals: [PositionRefusal] = []
    /// The local record of the seqno, when it agrees with everything the request gave.
    private(set) var agreeingRecord: RecordHeaders?
    /// Whether the local tranlogs hold the seqno at all (agreeing or not).
    private(set) var foundRecord = false

    init(_ request: PositionRequest, directory: DataDirectory, repositoryID: RepositoryID, fileSystem: any TranlogFileSystem) {
        do {
            let logs = try TranlogDirectory.scan(directory.tranlogs, fileSystem: fileSystem)
            guard !logs.files.isEmpty else { return }
            switch try RecordSearch.find(.seqno(request.seqno), in: logs, fileSystem: fileSystem, expectedRepository: repositoryID) {
            case .success(let record):
                foundRecord = true
                check(request, against: RecordHeaders(record))
            case .failure:
                guard let eventID = request.eventID else { return }
                try checkEventID(eventID, request: request, logs: logs, repositoryID: repositoryID, fileSystem: fileSystem)
            }
        } catch {
            refusals.append(.localLogsUnreadable(error.description))
        }
    }

    private mutating func check(_ request: PositionRequest, against record: RecordHeaders) {
        var differences: [PositionRefusal] = []
        func compare(_ field: String, _ local: String, _ given: String?) {
            guard let given, given != local else { return }
            differences.append(.localRecordDiffers(field: field, local: local, given: given, record: record))
        }
        compare("epoch", "\(record.epoch)", "\(request.epoch)")
        compare("event id", "\(record.eventID)", request.eventID.map { "\($0)" })
        compare("source id", "\(record.sourceID)", request.sourceID.map { "\($0)" })
        compare("CRC", hex(record.recordCRC), request.recordCRC.map(hex))
        refusals += differences
        if differences.isEmpty { agreeingRecord = record }
    }

    /// The seqno is not local: an event id in a local file must still not start another record.
    private mutating func checkEventID(
        _ eventID: EventID, request: PositionRequest, logs: TranlogDirectory, repositoryID: RepositoryID, fileSystem: any TranlogFileSystem
    ) throws(TranlogError) {
        guard logs.files.contains(where: { $0.fileID == eventID.fileID }) else { return }
        switch try RecordSearch.find(.event(eventID), in: logs, fileSystem: fileSystem, expectedRepository: repositoryID) {
        case .success(let record): refusals.append(.eventIDPointsElsewhere(eventID: eventID, record: RecordHeaders(record), seqno: request.seqno))
        case .failure(let notFound): refusals.append(.noRecordAtEventID(notFound))
        }
    }
}
