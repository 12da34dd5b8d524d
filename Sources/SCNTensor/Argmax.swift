extension Collection where Element: Comparable {
    /// The index of the largest element, the first one on ties (as PyTorch's `argmax`); nil when empty.
    /// A slice's index counts from its base collection's start.
    public func argmax() -> Index? {
        indices.max { self[$0] < self[$1] }
    }
}
