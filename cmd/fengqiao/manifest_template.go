package main

import "regexp"

var manifestName = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

// manifestTemplate is what `fengqiao connector new` writes: a working manifest for
// a typical app, every section explained.
const manifestTemplate = `# {{name}} 的接入清单。每个字段的含义见 docs/connectors.md。
# ${名字} 在加载时替换为配置 manifestVars 或环境变量中的值，密钥不要直接写在清单里。

name: {{name}}                    # 连接器标识：小写英文，唯一
title: 某某应用                    # 系统中文名，界面和错误信息中显示
source: APP                       # 来源：APP（长尾应用），或 HOTLINE_12345、CITY_MGMT 等
baseURL: ${{{NAME}}_URL}

# 鉴权，三选一：
auth:
  apiKey: {header: X-Api-Key, value: "${{{NAME}}_KEY}"}
  # bearer: {tokenURL: /oauth/token, clientId: "…", clientSecret: "…"}     # client_credentials 取令牌
  # hmac: {keyHeader: X-App-Key, key: "…", secret: "…", timestampHeader: X-Ts, signatureHeader: X-Sig, sign: '{method}\n{uri}\n{ts}'}

# 列表接口（GET）及固定查询参数
request:
  path: /api/records
  query: {}

# 分页：page（页码/每页条数）、offset（偏移/条数）、token（下一页令牌）或 sinceId（读过的最大编号之后）
pagination: {type: page, size: 100, pageParam: page, sizeParam: size}
# pagination: {type: offset, size: 100, offsetParam: offset, limitParam: limit}
# pagination: {type: token, size: 100, sizeParam: pageSize, tokenParam: nextToken, nextToken: data.nextToken}
# pagination: {type: sinceId, size: 100, sizeParam: limit, idParam: sinceId}   # 编号递增、记录写后不改的应用

# 增量同步（page/offset 分页必填）：按更新时间 >= 上次位置读取
# format：unix（秒）、unixms（毫秒）、rfc3339，或 Go 时间格式（按北京时间），如 "2006-01-02 15:04:05"
incremental: {param: updatedSince, field: updateTime, format: "2006-01-02 15:04:05"}

records: data.list                # 记录列表在响应中的路径
id: r.id                          # 记录编号（CEL 表达式，r 为一条记录）

# 字段映射：每个值都是 CEL 表达式。常量写成带引号的字符串：'"REQUEST"'
# 注意：{a: b, c: d} 写法中表达式若含逗号，须用单引号整体括起，或改用分行写法。
# 可用函数：parseTime(值, 格式)、code(代码表, 值)、get(r, "a.b", 默认值)，以及字符串拼接 +
event:
  kind: '"REQUEST"'               # COMPLAINT REQUEST CONSULT SUGGESTION DISPUTE ENFORCEMENT …
  title: r.title
  content: get(r, "content", "")
  category: get(r, "category", "其他")
  reportedAt: parseTime(r.createTime, "2006-01-02 15:04:05")
  status: code("status", r.status)
  orgCode: get(r, "areaCode", "") # 区划代码（村社 12 位、网格 15 位）；没有时按 address 定位
  address: get(r, "address", "")
  updatedAt: parseTime(r.updateTime, "2006-01-02 15:04:05")
  # 可选：occurredAt handlingLevel lat lon outcome refersTo projectCode deadline resolvedAt

# 可选：本县以外的应用，记录既无区划代码、地址也定位不到时，放在这个单位（县 6 位、镇街 9 位…）
# defaultOrgCode: "331081"

# 可选：应用自有的字段，按类型保存在事件上（string int float bool time），取值不符合类型的记录进隔离区
# attributes:
#   - {name: replyCount, label: 回复数, type: int, value: 'get(r, "replyCount", null)'}

# 当事人（可选）。each 遍历列表，元素记为 p；when 为条件
parties:
  - role: '"反映人"'
    person:
      name: get(r, "reporter", "")
      phone: get(r, "phone", "")
  # - each: get(r, "parties", [])
  #   when: p.type == "company"
  #   role: p.role
  #   organization:
  #     name: p.name
  #     creditCode: get(p, "creditCode", "")

# 代码表：上游代码 → 枢纽取值。状态可选 RECEIVED DISPATCHED IN_PROGRESS RESOLVED CLOSED
codes:
  status: {"0": RECEIVED, "1": IN_PROGRESS, "2": RESOLVED}

# 可选：按编号实时读取一条记录
# detail: {path: "/api/records/{id}", record: data}

rateLimit: 10/s                   # 应用的限流：10/s、120/min、1000/h 或每秒次数，0 为不限
upstream: {timeout: 10s, retryMax: 3}
`
