import ArgumentParser
import Foundation
import Node
import Repository
import Tranlog

/// Accounts as keys `account/NAME` holding a decimal balance.
struct Bank {
    let client: NodeClient

    struct Receipt {
        var commit: CommitReply
        var conflicts: Int
    }

    /// Creates each account that does not exist yet (`absent` precondition: running the example twice
    /// keeps the balances).
    func open(_ names: [String], balance: Int) throws {
        for name in names {
            let opened = try conflictIsNil { () throws(NodeClientError) in
                try client.put(key: key(name), value: Array(String(balance).utf8), expecting: .absent)
            }
            if opened == nil { print("account \(name) exists: keeping its balance") }
        }
    }

    /// Moves `amount` atomically. Both balances are read with the seqno that wrote them; the commit
    /// applies only if neither changed since, otherwise it is retried on fresh values.
    func transfer(_ amount: Int, from: String, to: String) throws -> Receipt {
        for conflicts in 0..<100 {
            let (source, sourceSeqno) = try read(from)
            let (target, targetSeqno) = try read(to)
            guard source >= amount else { throw ValidationError("\(from) has \(source), cannot send \(amount)") }
            let transaction = Transaction(
                operations: [.put(key: key(from), value: Array(String(source - amount).utf8)),
                             .put(key: key(to), value: Array(String(target + amount).utf8))],
                preconditions: [Precondition(key: key(from), expectation: .writtenAt(sourceSeqno)),
                                Precondition(key: key(to), expectation: .writtenAt(targetSeqno))])
            if let commit = try conflictIsNil({ () throws(NodeClientError) in try client.commit(CommitBatch(transaction)) }) {
                return Receipt(commit: commit, conflicts: conflicts)
            }
        }
        throw ValidationError("transfer from \(from) to \(to) kept conflicting; giving up")
    }

    func balances(_ names: [String]) throws -> [String: Int] {
        var balances: [String: Int] = [:]
        for name in names { balances[name] = try read(name).balance }
        return balances
    }

    /// Polls the node's status until its applied seqno reaches `seqno` (replication is asynchronous:
    /// a standby answers reads as of what it has applied).
    func waitUntilApplied(_ seqno: Seqno, seconds: Double) throws -> Seqno {
        let deadline = Date().addingTimeInterval(seconds)
        while true {
            let applied = try client.status().repository.applied.seqno
            if applied >= seqno { return applied }
            guard Date() < deadline else {
                throw ValidationError("the standby applied only through seqno \(applied) after \(seconds) s; it needs \(seqno)")
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
    }

    private func read(_ name: String) throws -> (balance: Int, seqno: Seqno) {
        guard let object = try client.get(key: key(name)) else { throw ValidationError("no account \(name)") }
        guard let balance = Int(String(decoding: object.value, as: UTF8.self)) else {
            throw ValidationError("account \(name) holds no number")
        }
        return (balance, object.seqno)
    }

    /// A failed precondition (409 conflict) as nil; every other error is thrown.
    private func conflictIsNil<Value>(_ body: () throws(NodeClientError) -> Value) throws(NodeClientError) -> Value? {
        do {
            return try body()
        } catch {
            if case .refused(409, "conflict", _) = error { return nil }
            throw error
        }
    }

    private func key(_ name: String) -> [UInt8] { Array("account/\(name)".utf8) }
}
