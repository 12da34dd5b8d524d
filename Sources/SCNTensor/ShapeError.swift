/// A message for operands whose shapes do not fit an operation; names the operation and every shape.
public struct ShapeError: Error, CustomStringConvertible, Equatable {
    public let operation: String
    public let shapes: [[Int]]
    public let detail: String

    public var description: String {
        "\(operation): shapes " + shapes.map { "\($0)" }.joined(separator: " and ") + " do not fit: \(detail)"
    }
}

/// Stops with the shape error's message; called where operands are validated.
@inline(never)
func shapeFailure(_ error: ShapeError) -> Never { fatalError(error.description) }

/// The broadcast result shape of `a` and `b` (NumPy rules), or the error naming both.
public func broadcastShape(_ a: [Int], _ b: [Int], operation: String) -> Result<[Int], ShapeError> {
    let rank = max(a.count, b.count)
    var result = [Int](repeating: 1, count: rank)
    for i in 0..<rank {
        let da = i < rank - a.count ? 1 : a[i - (rank - a.count)]
        let db = i < rank - b.count ? 1 : b[i - (rank - b.count)]
        if da == db || db == 1 { result[i] = da } else if da == 1 { result[i] = db } else {
            return .failure(ShapeError(operation: operation, shapes: [a, b],
                                       detail: "dimension \(i) is \(da) against \(db)"))
        }
    }
    return .success(result)
}
