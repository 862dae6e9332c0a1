extension Sequence<UInt8> {
    /// Two lowercase hex digits per byte.
    var hexString: String {
        map { byte in byte < 16 ? "0" + String(byte, radix: 16) : String(byte, radix: 16) }.joined()
    }
}
