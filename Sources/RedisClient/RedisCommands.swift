import NIOCore
import Timing

// The commands Promptline uses, each a small value with its reply type. Anything else can
// be sent as a ``RawCommand``.

/// Any command, given as its words; answers the raw reply.
public struct RawCommand: RedisCommand {
    public var words: [String]
    public init(_ words: String...) { self.words = words }
    public init(_ words: [String]) { self.words = words }

    public func encode(into encoder: inout RESPCommandEncoder) {
        encoder.start(words[0])
        encoder.append(contentsOf: words.dropFirst())
        encoder.finish()
    }
}

public struct PING: RedisCommand {
    public typealias Response = String
    public init() {}
    public func encode(into encoder: inout RESPCommandEncoder) {
        encoder.start("PING")
        encoder.finish()
    }
}

/// `HELLO protover [AUTH username password] [SETNAME name]`: switches the protocol.
public struct HELLO: RedisCommand {
    public var protocolVersion: Int
    public var username: String?
    public var password: String?
    public var clientName: String?

    public init(protocolVersion: Int, username: String? = nil, password: String? = nil, clientName: String? = nil) {
        self.protocolVersion = protocolVersion
        self.username = username
        self.password = password
        self.clientName = clientName
    }

    public func encode(into encoder: inout RESPCommandEncoder) {
        encoder.start("HELLO")
        encoder.append(protocolVersion)
        if let password {
            encoder.append("AUTH")
            encoder.append(username ?? "default")
            encoder.append(password)
        }
        if let clientName {
            encoder.append("SETNAME")
            encoder.append(clientName)
        }
        encoder.finish()
    }
}

public struct AUTH: RedisCommand {
    public typealias Response = RedisOK
    public var username: String?
    public var password: String
    public init(username: String? = nil, password: String) {
        self.username = username
        self.password = password
    }
    public func encode(into encoder: inout RESPCommandEncoder) {
        encoder.start("AUTH")
        if let username { encoder.append(username) }
        encoder.append(password)
        encoder.finish()
    }
}

public struct SELECT: RedisCommand {
    public typealias Response = RedisOK
    public var database: Int
    public init(_ database: Int) { self.database = database }
    public func encode(into encoder: inout RESPCommandEncoder) {
        encoder.start("SELECT")
        encoder.append(database)
        encoder.finish()
    }
}

public struct GET: RedisCommand {
    public typealias Response = ByteBuffer?
    public var key: String
    public init(_ key: String) { self.key = key }
    public func encode(into encoder: inout RESPCommandEncoder) {
        encoder.start("GET")
        encoder.append(key)
        encoder.finish()
    }
}

/// `SET key value [PX milliseconds]`.
public struct SET: RedisCommand {
    public typealias Response = RedisOK
    public var key: String
    public var value: ByteBuffer
    public var expiry: Duration?
    public init(_ key: String, _ value: ByteBuffer, expiry: Duration? = nil) {
        self.key = key
        self.value = value
        self.expiry = expiry
    }
    public init(_ key: String, _ value: String, expiry: Duration? = nil) {
        self.init(key, ByteBuffer(string: value), expiry: expiry)
    }
    public func encode(into encoder: inout RESPCommandEncoder) {
        encoder.start("SET")
        encoder.append(key)
        encoder.append(value)
        if let expiry {
            encoder.append("PX")
            encoder.append(max(1, expiry.milliseconds))
        }
        encoder.finish()
    }
}

public struct DEL: RedisCommand {
    public typealias Response = Int
    public var keys: [String]
    public init(_ keys: String...) { self.keys = keys }
    public init(_ keys: [String]) { self.keys = keys }
    public func encode(into encoder: inout RESPCommandEncoder) {
        encoder.start("DEL")
        encoder.append(contentsOf: keys)
        encoder.finish()
    }
}

/// `ZADD key score member …`; answers how many members were added.
public struct ZADD: RedisCommand {
    public typealias Response = Int
    public var key: String
    public var members: [(score: Double, member: String)]
    public init(_ key: String, _ members: [(score: Double, member: String)]) {
        self.key = key
        self.members = members
    }
    public init(_ key: String, score: Double, member: String) {
        self.init(key, [(score, member)])
    }
    public func encode(into encoder: inout RESPCommandEncoder) {
        encoder.start("ZADD")
        encoder.append(key)
        for (score, member) in members {
            encoder.append(score)
            encoder.append(member)
        }
        encoder.finish()
    }
}

public struct ZREM: RedisCommand {
    public typealias Response = Int
    public var key: String
    public var members: [String]
    public init(_ key: String, _ members: String...) {
        self.key = key
        self.members = members
    }
    public func encode(into encoder: inout RESPCommandEncoder) {
        encoder.start("ZREM")
        encoder.append(key)
        encoder.append(contentsOf: members)
        encoder.finish()
    }
}

/// `ZREMRANGEBYSCORE key -inf max`: removes members scored at or below `max`.
public struct ZREMRANGEBYSCORE: RedisCommand {
    public typealias Response = Int
    public var key: String
    public var max: Double
    public init(_ key: String, max: Double) {
        self.key = key
        self.max = max
    }
    public func encode(into encoder: inout RESPCommandEncoder) {
        encoder.start("ZREMRANGEBYSCORE")
        encoder.append(key)
        encoder.append("-inf")
        encoder.append(max)
        encoder.finish()
    }
}

/// `ZRANGE key 0 -1 WITHSCORES`: every member with its score, lowest first.
public struct ZRANGEWITHSCORES: RedisCommand {
    public typealias Response = RESPValue
    public var key: String
    public init(_ key: String) { self.key = key }
    public func encode(into encoder: inout RESPCommandEncoder) {
        encoder.start("ZRANGE")
        encoder.append(key)
        encoder.append("0")
        encoder.append("-1")
        encoder.append("WITHSCORES")
        encoder.finish()
    }
}

/// `PEXPIRE key milliseconds`.
public struct PEXPIRE: RedisCommand {
    public typealias Response = Bool
    public var key: String
    public var expiry: Duration
    public init(_ key: String, _ expiry: Duration) {
        self.key = key
        self.expiry = expiry
    }
    public func encode(into encoder: inout RESPCommandEncoder) {
        encoder.start("PEXPIRE")
        encoder.append(key)
        encoder.append(max(1, expiry.milliseconds))
        encoder.finish()
    }
}

public struct PUBLISH: RedisCommand {
    public typealias Response = Int
    public var channel: String
    public var message: String
    public init(_ channel: String, _ message: String) {
        self.channel = channel
        self.message = message
    }
    public func encode(into encoder: inout RESPCommandEncoder) {
        encoder.start("PUBLISH")
        encoder.append(channel)
        encoder.append(message)
        encoder.finish()
    }
}

/// `INFO [section]`: the server's report, as text.
public struct INFO: RedisCommand {
    public typealias Response = String
    public var section: String?
    public init(_ section: String? = nil) { self.section = section }
    public func encode(into encoder: inout RESPCommandEncoder) {
        encoder.start("INFO")
        if let section { encoder.append(section) }
        encoder.finish()
    }
}

/// `CONFIG GET parameter`: answers the value, or `nil` when there is no such parameter.
public struct CONFIGGET: RedisCommand {
    public struct Response: RESPDecodable {
        public var value: String?
        public init(fromRESP value: RESPValue) throws(RedisClientError) {
            guard let elements = value.elements else { throw Self.mismatch(value) }
            self.value = elements.count >= 2 ? elements[1].string : nil
        }
    }
    public var parameter: String
    public init(_ parameter: String) { self.parameter = parameter }
    public func encode(into encoder: inout RESPCommandEncoder) {
        encoder.start("CONFIG")
        encoder.append("GET")
        encoder.append(parameter)
        encoder.finish()
    }
}

/// `SCRIPT LOAD source`: answers the script's SHA1.
public struct SCRIPTLOAD: RedisCommand {
    public typealias Response = String
    public var source: String
    public init(_ source: String) { self.source = source }
    public func encode(into encoder: inout RESPCommandEncoder) {
        encoder.start("SCRIPT")
        encoder.append("LOAD")
        encoder.append(source)
        encoder.finish()
    }
}

/// `EVALSHA sha numkeys key… arg…`.
public struct EVALSHA: RedisCommand {
    public var sha: String
    public var keys: [String]
    public var arguments: [RedisScript.Argument]
    public init(sha: String, keys: [String], arguments: [RedisScript.Argument]) {
        self.sha = sha
        self.keys = keys
        self.arguments = arguments
    }
    public func encode(into encoder: inout RESPCommandEncoder) {
        encoder.start("EVALSHA")
        encoder.append(sha)
        encoder.append(keys.count)
        encoder.append(contentsOf: keys)
        for argument in arguments { argument.encode(into: &encoder) }
        encoder.finish()
    }
}
