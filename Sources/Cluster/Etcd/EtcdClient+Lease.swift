/// Leases: granted with a TTL, kept alive by their holder, revoked on a clean exit.
extension EtcdClient {
    private typealias JSON = EtcdGatewayJSON

    /// A new lease of `ttlSeconds` (etcd may grant a longer one: its minimum).
    public func grantLease(ttlSeconds: Int64) throws(EtcdError) -> EtcdLease {
        let answer = try call("/v3/lease/grant", JSON.LeaseRequest(ID: JSON.Int64Text(0), TTL: JSON.Int64Text(ttlSeconds)),
                              as: JSON.LeaseResponse.self)
        guard let id = answer.response.ID?.value, id != 0 else {
            throw .malformedResponse(answer.endpoint, detail: "a lease grant without an ID")
        }
        return EtcdLease(id: id, ttlSeconds: answer.response.TTL?.value ?? ttlSeconds)
    }

    /// Refreshes the lease to its full TTL: one message on the gateway's keepalive stream (the stream
    /// ends with the request body). The lease as refreshed; `leaseNotFound` when it is gone.
    @discardableResult
    public func keepAlive(_ lease: Int64) throws(EtcdError) -> EtcdLease {
        let answer = try call("/v3/lease/keepalive", JSON.LeaseRequest(ID: JSON.Int64Text(lease)),
                              as: JSON.StreamMessage<JSON.LeaseResponse>.self)
        if let error = answer.response.error {
            throw .refused(answer.endpoint, status: error.http_code ?? 200, code: error.grpc_code ?? -1,
                           message: error.message ?? "keepalive failed")
        }
        // etcd answers a lease it does not know with a TTL of 0 (left out, as proto3 leaves zeros).
        guard let ttl = answer.response.result?.TTL?.value, ttl > 0 else { throw .leaseNotFound(answer.endpoint, lease: lease) }
        return EtcdLease(id: lease, ttlSeconds: ttl)
    }

    /// Ends the lease now: its keys are deleted. A lease already gone is not an error.
    public func revokeLease(_ lease: Int64) throws(EtcdError) {
        do {
            _ = try call("/v3/lease/revoke", JSON.LeaseRequest(ID: JSON.Int64Text(lease)), as: JSON.LeaseResponse.self)
        } catch .refused(_, _, let code, _) where code == 5 {
            return  // NOT_FOUND: expired or revoked already
        }
    }
}

extension EtcdClient {
    /// Seconds the lease has left (nil: it is gone) and the TTL it was granted.
    public func leaseTimeToLive(_ lease: Int64) throws(EtcdError) -> (remainingSeconds: Int64?, grantedSeconds: Int64) {
        let answer = try call("/v3/lease/timetolive", EtcdGatewayJSON.LeaseRequest(ID: EtcdGatewayJSON.Int64Text(lease)),
                              as: EtcdGatewayJSON.LeaseTimeToLive.self)
        let remaining = answer.response.TTL?.value ?? -1
        return (remaining < 0 ? nil : remaining, answer.response.grantedTTL?.value ?? 0)
    }
}
